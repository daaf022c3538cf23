"""Monthly order reports: total the amounts of a CSV file per month."""

import csv
import sys
from collections import Counter


def totals(rows):
    """{'2024-01': 12.5, ...} from rows with a 'date' and an 'amount' column."""
    result = Counter()
    for row in rows:
        result[row["date"][:7]] += float(row["amount"])
    return dict(sorted(result.items()))


def main():
    with open(sys.argv[1], newline="") as file:
        for month, total in totals(csv.DictReader(file)).items():
            print(f"{month}  {total:10.2f}")
