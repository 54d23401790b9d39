"""Manyi (满意): customer-satisfaction platform."""
