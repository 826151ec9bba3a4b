"""The KPI app's pages (issue 11): the dashboard, the stand-up, to-dos and settings."""
