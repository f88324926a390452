#!/usr/bin/env python3
"""Builds the benchmark inputs in a temporary folder by repeating corpus
lines: an Apache combined log of SIZE bytes, and a CSV log with the same
requests as columns. Never commit the outputs."""

import csv
import io
import re
import sys

corpus, out_dir, size = sys.argv[1], sys.argv[2], int(sys.argv[3])

LINE = re.compile(
    r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "(.*)" (\d{3}) (\S+) "([^"]*)" "([^"]*)"$'
)
lines = []
with open(f"{corpus}/logs/plaso/apache_access.log", encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        # Only well-formed combined lines: the benchmark measures clean input.
        if LINE.match(line):
            lines.append(line)
if not lines:
    sys.exit("no combined lines found in the corpus")


def repeat(block: bytes, path: str, target: int) -> None:
    with open(path, "wb") as out:
        written = 0
        while written < target:
            out.write(block)
            written += len(block)


block = ("\n".join(lines) + "\n").encode()
block = block * max(1, (1 << 20) // len(block))
repeat(block, f"{out_dir}/access.log", size)

buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(["client_ip", "ident", "user", "time", "request", "status", "bytes", "referer", "user_agent"])
header = buf.getvalue().encode()
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
for line in lines:
    m = LINE.match(line)
    w.writerow(m.groups())
rows = buf.getvalue().encode()
rows = rows * max(1, (1 << 20) // len(rows))
with open(f"{out_dir}/access.csv", "wb") as out:
    out.write(header)
    written = len(header)
    while written < size:
        out.write(rows)
        written += len(rows)
