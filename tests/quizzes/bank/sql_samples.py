"""SQL challenges of each mode for the form and preview tests, each valid by the bank's
rules. In the query and transaction ones the wrong solution passes the visible tests and
fails a hidden one, so Verify passes them."""

from __future__ import annotations

# The query mode: paid totals per customer; the wrong solution forgets the status.
PAID_TOTALS = {
    "slug": "t-sql-paid-totals",
    "type": "sql",
    "title": "Paid totals per customer",
    "points": 10,
    "body": (
        "On SQLite: each customer's total of **paid** orders, by customer name.\n\n"
        "```sql\nCREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL,\n"
        "  status TEXT NOT NULL, total INTEGER NOT NULL);\n```\n"
    ),
    "challenge": {
        "schema": (
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL,\n"
            "  status TEXT NOT NULL, total INTEGER NOT NULL);\n"
        ),
        "ordered": True,
        "starter": "SELECT customer, ... FROM orders;\n",
        "reference_solution": (
            "SELECT customer, SUM(total) AS paid FROM orders WHERE status = 'paid'\n"
            "GROUP BY customer ORDER BY customer;\n"
        ),
        "rules": [{"id": "paid-only", "text": "Only paid orders count."}],
        "wrong_solutions": [
            {
                "breaks": "paid-only",
                "source": (
                    "SELECT customer, SUM(total) AS paid FROM orders\n"
                    "GROUP BY customer ORDER BY customer;\n"
                ),
            }
        ],
        "tests": [
            {
                "name": "every order paid",
                "visible": True,
                "data": (
                    "INSERT INTO orders VALUES (1, 'ana', 'paid', 10), (2, 'bo', 'paid', 5),\n"
                    "  (3, 'ana', 'paid', 7);\n"
                ),
            },
            {
                "name": "a cancelled order",
                "rule": "paid-only",
                "data": (
                    "INSERT INTO orders VALUES (1, 'ana', 'paid', 10),\n"
                    "  (2, 'ana', 'cancelled', 99), (3, 'bo', 'paid', 5);\n"
                ),
            },
        ],
    },
}

# The index mode: the lookup of a customer's orders must search through an index.
INDEX = {
    "slug": "t-sql-index",
    "type": "sql",
    "title": "Index the order lookup",
    "points": 10,
    "body": "On SQLite: write the migration that lets the lookup use an index.",
    "challenge": {
        "mode": "index",
        "schema": (
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,\n"
            "  total INTEGER NOT NULL);\n"
        ),
        "query": "SELECT id, total FROM orders WHERE customer_id = 7 ORDER BY id;\n",
        "requires_index_on": "orders",
        "forbid_sort": False,
        "ordered": True,
        "starter": "-- CREATE INDEX ...\n",
        "reference_solution": "CREATE INDEX orders_customer ON orders(customer_id);\n",
        "wrong_solutions": ["CREATE INDEX orders_total ON orders(total);\n"],
        "tests": [
            {
                "name": "a few orders",
                "visible": True,
                "data": "INSERT INTO orders VALUES (1, 7, 10), (2, 8, 20), (3, 7, 30);\n",
            },
            {
                "name": "many customers",
                "visible": False,
                "data": (
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
                    "\nINSERT INTO orders SELECT i, i % 50, i FROM n;\n"
                ),
            },
        ],
    },
}

# The transaction mode: a transfer, applied only when the balance covers it. The wrong
# solution is atomic but forgets the check: right on the visible test, wrong on the hidden.
TRANSACTION = {
    "slug": "t-sql-transfer",
    "type": "sql",
    "title": "Transfer when covered",
    "points": 10,
    "body": (
        "On SQLite: move 10 from account 1 to account 2 in one transaction, only when "
        "account 1 holds at least 10; otherwise change nothing."
    ),
    "challenge": {
        "mode": "transaction",
        "schema": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);\n",
        "reader_query": (
            "SELECT group_concat(id || ':' || balance, ',')\n"
            "FROM (SELECT id, balance FROM accounts ORDER BY id);\n"
        ),
        "check_tables": ["accounts"],
        "starter": "BEGIN IMMEDIATE;\n-- ...\nCOMMIT;\n",
        "reference_solution": (
            "BEGIN IMMEDIATE;\n"
            "UPDATE accounts SET balance = balance + 10\n"
            " WHERE id = 2 AND (SELECT balance FROM accounts WHERE id = 1) >= 10;\n"
            "UPDATE accounts SET balance = balance - 10 WHERE id = 1 AND balance >= 10;\n"
            "COMMIT;\n"
        ),
        "rules": [{"id": "covered", "text": "Only a balance of at least 10 is moved."}],
        "wrong_solutions": [
            {
                "breaks": "covered",
                "source": (
                    "BEGIN IMMEDIATE;\n"
                    "UPDATE accounts SET balance = balance + 10 WHERE id = 2;\n"
                    "UPDATE accounts SET balance = balance - 10 WHERE id = 1;\n"
                    "COMMIT;\n"
                ),
            }
        ],
        "tests": [
            {
                "name": "enough money",
                "visible": True,
                "data": "INSERT INTO accounts VALUES (1, 50), (2, 0);\n",
            },
            {
                "name": "not enough money",
                "rule": "covered",
                "data": "INSERT INTO accounts VALUES (1, 5), (2, 0);\n",
            },
        ],
    },
}

SQL_MODES_SAMPLES = [PAID_TOTALS, INDEX, TRANSACTION]
