namespace RnnNotebooks.Data;

/// <summary>
/// The eight registered datasets. Origins, commits and checksums come from each dataset's SOURCE.md in
/// shared/datasets; the many-file datasets read their file lists from data/manifests.
/// </summary>
internal static class DatasetCatalog
{
    private const string Raw = "https://raw.githubusercontent.com/";
    private const string D2lZh = Raw + "d2l-ai/d2l-zh/592fbef84a684e752393edbf267c07dbc53e082b/data/";

    private static readonly Lazy<IReadOnlyDictionary<string, DatasetInfo>> all = new(Build);

    public static IReadOnlyDictionary<string, DatasetInfo> All => all.Value;

    private static IReadOnlyDictionary<string, DatasetInfo> Build()
    {
        DatasetInfo[] datasets =
        [
            new("tinyshakespeare",
                "Karpathy's tiny Shakespeare: 1.1M characters of plays, for character-level language models.",
                "Public-domain text (William Shakespeare); the char-rnn repository is MIT.",
                "Andrej Karpathy, char-rnn (2015), \"tiny shakespeare\" dataset.",
                [Url("input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1_115_394,
                    Raw + "karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt")]),

            new("timemachine",
                "H. G. Wells, The Time Machine: the exact file Dive into Deep Learning uses in its RNN chapters.",
                "Public domain (Project Gutenberg); the d2l-zh repository is Apache-2.0.",
                "H. G. Wells; Project Gutenberg; d2l.ai (Zhang, Lipton, Li, Smola).",
                [Url("timemachine.txt", "8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516", 178_979,
                    D2lZh + "timemachine.txt")]),

            new("ptb",
                "Penn Treebank language-modelling splits (Mikolov's preprocessing, 10k vocabulary) in d2l's ptb.zip.",
                "No open licence: the Penn Treebank is an LDC corpus (LDC99T42). Use it for teaching; do not relicense it.",
                "Marcus et al. (1993), Penn Treebank; T. Mikolov's preprocessing; redistributed by d2l.ai.",
                [Url("ptb.zip", "310d8f602882a5716613815ed75596e5764ea84ed04c5630eebaaf2b943ec5aa", 1_981_551,
                    D2lZh + "ptb.zip")]),

            new("fra-eng",
                "Tatoeba English–French sentence pairs (manythings.org 2017-09-29 release, 142,787 pairs) and d2l's 20-pair toy set.",
                "CC BY 2.0 (France), the Tatoeba licence.",
                "Tatoeba Project contributors (tatoeba.org); manythings.org/anki.",
                [
                    Url("d2l-fr-en-small.txt", "2fbdf9bbb0dc1f31adb0af10a49c2aa9799de565e1d4bd71257a856d4dc9dbfc", 806,
                        D2lZh + "fr-en-small.txt"),
                    Url("fra-eng.zip", "16c4f7d0df9e7c5e6c54cdb0447f3f4a18a55052ff5e2e0b27dd4a06c0e49d04", 2_951_390,
                        Raw + "genimind/seq2seq/4f3f8eb0adde54fcc8b89394336b002e7961244c/fra-eng.zip"),
                ]),

            new("multi30k",
                "Multi30k task 1: Flickr30k captions in English, German, French and Czech (29k/1,014/1,000 pairs), raw and tokenized.",
                "No licence file; the README restricts use to non-commercial research and teaching.",
                "Elliott, Frank, Sima'an, Specia (2016), \"Multi30K: Multilingual English-German Image Descriptions\"; "
                + "Elliott et al. (2017) and Barrault et al. (2018) for French and Czech.",
                Manifest.Load("multi30k")),

            new("fsdd",
                "Free Spoken Digit Dataset: 2,500 real 8 kHz recordings of the digits 0–9 by 5 speakers.",
                "CC BY-SA 4.0.",
                "Zohar Jackson et al., \"Free Spoken Digit Dataset (FSDD)\", https://github.com/Jakobovski/free-spoken-digit-dataset.",
                Manifest.Load("fsdd")),

            new("yesno",
                "OpenSLR SLR1 waves_yesno: 60 recordings of 8 spoken yes/no words each, labels in the file names.",
                "OpenSLR lists SLR1 under a Creative Commons attribution licence (not re-checked offline; confirm on openslr.org/1).",
                "Kaldi project / OpenSLR SLR1 (anonymous contributor).",
                Manifest.Load("yesno")),

            new("flickr8k",
                "Flickr8k: 8,091 photos (224×224 JPEG), 5 captions each, with the official 6k/1k/1k split.",
                "Research and teaching use only; the photos belong to their Flickr owners. Do not redistribute commercially.",
                "M. Hodosh, P. Young, J. Hockenmaier (2013), \"Framing Image Description as a Ranking Task: Data, Models "
                + "and Evaluation Metrics\", JAIR 47:853–899.",
                Manifest.Load("flickr8k")),
        ];
        return datasets.ToDictionary(d => d.Name, StringComparer.Ordinal);
    }

    private static DatasetFile Url(string path, string sha256, long bytes, string url) =>
        new(path, sha256, bytes, FileSource.Url, new Uri(url));
}
