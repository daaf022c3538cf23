"""Command line tools for ACME's order desk."""

import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(prog="acme")
    parser.add_argument("order", help="an order number")
    arguments = parser.parse_args(argv)
    print(f"order {arguments.order}: open")
