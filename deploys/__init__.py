"""hastack deploys: one module per component; all.py and the role files run them."""
