"""Figures from result objects: Pillow panels (panels.py) and plotly charts (charts.py)."""
