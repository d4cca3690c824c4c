"""Claims: casualty-count normalization (`normalize`) and the claims table (`table`)."""
