"""Postal and finance staff: accounts, server-side sessions, CSRF, proof files, and their pages at /staff.

Staff are people at a post office or in finance, not portals: they log in with a username and password
(Argon2id, gateway/staff/passwords.py), hold a session whose id lives only in an HttpOnly cookie and whose
hash lives in the database (gateway/staff/sessions.py), so every gateway process on one database knows it.
docs/staff.md has the whole picture.
"""
