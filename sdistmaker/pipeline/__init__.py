"""One run: crawl, plan what to build, build in workers, publish, render, report."""
