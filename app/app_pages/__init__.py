"""The pages, one file each: thin scripts over app.data, run by Streamlit from app/main.py.

A package so the import contracts see them (no DuckDB, no warehouse in a page file).
"""
