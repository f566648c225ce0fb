"""Privacy views by area: policy pages, the dashboard, exports and account deletion."""
