"""Finding things: full-text search over what the tracking records say, and recurring recommendations.

A reading door, like `reports`: it changes no tracking record. The search
index is kept by database triggers (schema.py); similarities and recurring
themes are derived tables written by `recurring.refresh_similarities`.
"""
