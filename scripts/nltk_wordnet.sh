#!/usr/bin/env bash
# Build an offline NLTK WordNet corpus from Debian's wordnet-base (no nltk.download: no network to its host).
# NLTK refuses /usr/share/wordnet in place (path checks; Debian ships no `lexnames`), so copy it and rebuild lexnames
# from the lexnames(5WN) man page.
set -euo pipefail
dest="${1:?usage: nltk_wordnet.sh NLTK_DATA_DIR}"
[ -f "$dest/corpora/wordnet/lexnames" ] && exit 0
mkdir -p "$dest/corpora/wordnet"
find /usr/share/wordnet -maxdepth 1 -type f -exec cp {} "$dest/corpora/wordnet/" \;
zcat /usr/share/man/man5/lexnames.5WN.gz | awk -F'\t' '/^[0-9][0-9]\t/{split($2,a,".");gsub(/ /,"",$2);
  n=(a[1]=="noun")?1:(a[1]=="verb")?2:(a[1]=="adj")?3:4;printf "%s\t%s\t%d\n",$1,$2,n}' \
  > "$dest/corpora/wordnet/lexnames"
