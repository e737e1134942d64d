"""ldjfix: get rejected CRM LDJSON files into Gong."""

__version__ = "0.1.0"
