from setuptools import find_packages, setup

long_description = open("README.txt").read() + "\n\n" + open("CHANGES.txt").read()

setup(
    name="acme.utils",
    version="1.0.dev0",
    description="Small helpers shared by ACME's Python projects",
    long_description=long_description,
    author="ACME developers",
    author_email="dev@acme.example",
    url="https://svn.acme.example/repos/libs/acme.utils",
    license="BSD",
    packages=find_packages(),
    include_package_data=True,
    zip_safe=False,
)
