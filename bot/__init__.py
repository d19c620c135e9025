"""The CRPS symptom diary bot."""
