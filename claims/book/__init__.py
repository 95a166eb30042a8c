"""The book's reusable code, rebuilt once: chapter 5's thermometer loops, the models of chapters 6-8.

Tests import from here so that every chapter's claims run on the same code the book prints.
"""
