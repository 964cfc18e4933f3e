"""Enforcement documents (执法文书) as PDF: what each says (`content`) and its layout."""
