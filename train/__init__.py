"""Offline half of livegan: prepare data, train, report, export."""
