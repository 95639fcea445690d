"""In-transaction steps: the parts of a write that run inside a unit of work someone else opened.

Every function here takes the OPEN unit of work as its first argument and never opens, enters or commits
one (a unit of work entered inside another raises `NestedUnitOfWork`). Services in `erpcore.services`
own a transaction each; handlers and services call these steps within it.

    journal      queue balanced entries and reversals; number and write them at commit
    stock        lock and write stock balances in a fixed order; append stock moves
    requisition  raise a purchase requisition
    matching     three-way match a held supplier invoice and post it when it matches
    production   plan a work order (BOM lines at rolled-up cost); hand an approved order to the warehouse
"""
