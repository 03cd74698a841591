"""relmark over HTTP: the REST API, the tracking endpoint, customers' links, the dashboard."""
