"""The demo district: a dense city centre with its staff and a month of cases."""
