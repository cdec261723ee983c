"""Account administration (issue 10 item 8): who may create, disable, enable, reset and assign accounts, the
password policy, and the audit of every change.

The same shape as a service: `commands.py` (what is asked), `rules.py` (plain rules, no I/O), `handlers.py`
(`handler(cmd, uow, **deps)`), `unit_of_work.py` (the users and the audit log of the identity database, changed
in one transaction), `bootstrap.py` (the bus). The portal's pages and JSON API and the `greenmine user` commands
all go through `bootstrap.accounts_bus(...)`."""
