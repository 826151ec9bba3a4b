"""Delegates, delegations, runbooks and owner interruptions arrive with their own issue."""
