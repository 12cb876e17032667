#!/usr/bin/python3
"""Put the series' own subject and text into git format-patch's cover letter.

fill-cover-letter.py TEXT COVER FIRST_PATCH: TEXT's first line is the
subject, the rest the body; COVER is rewritten in place, with the Date:
of FIRST_PATCH so that the export does not change from day to day.
"""
import re
import sys


def main():
    text_path, cover_path, first_path = sys.argv[1:4]
    with open(text_path) as f:
        subject, _, body = f.read().partition("\n")
    with open(first_path) as f:
        date = re.search(r"^Date: .*$", f.read(), re.M).group(0)
    with open(cover_path) as f:
        cover = f.read()
    for placeholder, value in (("*** SUBJECT HERE ***", subject.strip()),
                               ("*** BLURB HERE ***", body.strip())):
        if placeholder not in cover:
            sys.exit(f"fill-cover-letter: no '{placeholder}' in {cover_path}")
        cover = cover.replace(placeholder, value)
    cover = re.sub(r"^Date: .*$", lambda _: date, cover, count=1, flags=re.M)
    with open(cover_path, "w") as f:
        f.write(cover)


if __name__ == "__main__":
    main()
