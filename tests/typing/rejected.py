"""Calls that fastmel's annotations must reject.

tests/test_typing.py runs mypy (strict, the project's configuration) on this
file: a line that ends in an ``E:`` comment naming error codes must get
exactly those errors from mypy, and no other line any.  Each mistake is one a
user makes and, without annotations, would only meet at run time (or never,
where the call coerces the value).
"""
import numpy as np

import fastmel

y = np.zeros(16000, dtype=np.float32)
rir = np.ones(64, dtype=np.float32)

# Parameters of the wrong type.
fastmel.MelSpectrogram(sr="16000", n_fft=512.5)  # E: arg-type, arg-type
fastmel.stft(y, n_fft="512")  # E: arg-type
fastmel.mfcc(y=y, sr=16000, n_mfcc=13.0)  # E: arg-type
fastmel.Convolver(rir, block_size="256")  # E: arg-type
fastmel.Bandpass("16000", 100.0, 4000.0)  # E: arg-type
fastmel.Delta(width=9.5)  # E: arg-type
fastmel.hz_to_mel(440.0, htk="slaney")  # E: arg-type
fastmel.frames_to_time(10, sr=16000, hop_length=160.0)  # E: arg-type

# Keyword-only parameters passed by position, and a missing one (add_noise is
# overloaded on the dtype, so no overload matches).
fastmel.stft(y, 512)  # E: call-arg
fastmel.melspectrogram(y, sr=16000)  # E: call-arg
fastmel.add_noise(y, y)  # E: call-overload

# Results are arrays (not Any): using one as something else is caught.
n_frames: int = fastmel.stft(y)  # E: assignment
label: str = fastmel.MelSpectrogram(sr=16000)(y)  # E: assignment
tail: str = fastmel.Chain([fastmel.Convolver(rir)]).flush()  # E: assignment
first_mel: str = fastmel.mel_frequencies(40)  # E: assignment

# A stream's latency is read-only.
fastmel.Convolver(rir).latency = 0  # E: misc
