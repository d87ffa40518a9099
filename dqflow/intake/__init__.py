"""What people bring, read safely: bounded files, spreadsheet tables, text checks, and a campaign's own
email templates in a sandbox."""
