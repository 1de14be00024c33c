"""Average speech spectrum of each FSDD speaker, in 500 Hz bands (dB), loud frames and quiet frames apart.

Shows that george's recordings are brighter than the other voices' (README, lesson 05). Needs numpy.
Usage: python3 tools/fsdd-spectra.py [DATA_DIR]   (default ../shared/datasets/fsdd)
"""
import glob
import sys
import wave

import numpy as np

folder = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/fsdd"
for speaker in ["george", "jackson", "nicolas", "theo", "yweweler"]:
    quiet, loud = [], []
    for path in sorted(glob.glob(f"{folder}/recordings/*_{speaker}_*.wav")):
        with wave.open(path) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
        if len(x) < 256:
            continue
        frames = np.lib.stride_tricks.sliding_window_view(x, 256)[::80] * np.hanning(256)   # 32 ms, 10 ms hop
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        energy = power.sum(1)
        still = energy < 0.003 * energy.max()
        quiet.append(power[still].mean(0) if still.any() else power[np.argmin(energy)])
        loud.append(power[energy > 0.1 * energy.max()].mean(0))
    for name, spectra in (("quiet", quiet), ("loud ", loud)):
        db = 10 * np.log10(np.mean(spectra, 0) + 1e-12)
        print(speaker, name, " ".join(f"{db[i * 16:(i + 1) * 16].mean():6.1f}" for i in range(8)))
