"""lossdoctor's knowledge base: the typed model, the loader and validator of ``content/``, the
number explainer and the search. Imports no Textual and no front end.
"""
