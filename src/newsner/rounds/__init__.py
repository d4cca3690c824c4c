"""The annotation loop: selection strategies (`select`) and the record of rounds (`record`)."""
