"""The storage shell: SQLModel tables, engines from a URL, exact upserts, schema migrations."""
