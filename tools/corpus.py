"""The training corpus: the King James Bible (public domain), from Debian's bible-kjv-text package,
read through its `bible` program (package bible-kjv). Verse references are dropped."""
import re
import subprocess


def kjv_verses():
    out = subprocess.run(['bible', 'gen1:1-rev22:21'], capture_output=True, text=True, check=True).stdout
    verses = []
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r'^\d+\s+(.*)$', line)
        if m:
            verses.append(m.group(1))
        elif verses and line and not re.match(r'^[A-Z0-9][A-Za-z ]* \d+$', line):
            verses[-1] += ' ' + line  # continuation of a wrapped verse
    return verses


def kjv_text():
    return '\n'.join(kjv_verses()) + '\n'
