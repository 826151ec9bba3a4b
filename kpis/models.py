"""Tickets, SLA policy and the weekly KPI rows arrive with their own issue."""
