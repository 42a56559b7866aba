"""Reports and exports: figures, tables and files made from the domain, never changing it."""
