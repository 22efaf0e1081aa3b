"""The training corpus: the King James Bible (public domain), from Debian's bible-kjv-text package,
read through its `bible` program (package bible-kjv). Verse references are dropped."""
import re
import subprocess


def kjv_references():
    """[(reference, verse)] in order: ('Genesis 1:1', 'In the beginning God created ...')."""
    out = subprocess.run(['bible', 'gen1:1-rev22:21'], capture_output=True, text=True, check=True).stdout
    verses, chapter = [], ''
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r'^(\d+)\s+(.*)$', line)
        if m:
            verses.append((f'{chapter}:{m.group(1)}', m.group(2)))
        elif re.match(r'^[A-Z0-9][A-Za-z ]* \d+$', line):
            chapter = line  # a chapter heading: 'Genesis 1', '1 Samuel 3'
        elif verses and line:
            verses[-1] = (verses[-1][0], verses[-1][1] + ' ' + line)  # continuation of a wrapped verse
    return verses


def kjv_verses():
    return [v for _, v in kjv_references()]


def kjv_text():
    return '\n'.join(kjv_verses()) + '\n'


def char_data(text):
    """The text as a tensor of character ids, and the sorted character vocabulary."""
    import torch
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    return torch.tensor([stoi[ch] for ch in text], dtype=torch.long), chars


def batch(data, seq, size):
    """`size` random windows of `seq` characters and the same windows shifted by one (the targets)."""
    import torch
    ix = torch.randint(0, len(data) - seq - 1, (size,))
    return torch.stack([data[i:i + seq] for i in ix]), torch.stack([data[i + 1:i + seq + 1] for i in ix])
