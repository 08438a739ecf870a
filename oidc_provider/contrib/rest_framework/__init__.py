"""Django REST framework support: JWT access-token authentication and scope permissions.

Import the classes from their modules (``.authentication``, ``.permissions``); this package
imports nothing so that ``manage.py check`` can read its settings without DRF loaded.
"""
