"""trainer's random streams in Python, so that every bench peer starts from trainer's initial
parameters and visits the samples in trainer's order: a port of Sources/Support/PortableRandom.swift
(xoshiro256** seeded through SplitMix64), Sources/Models/Initialization.swift and
Sources/Batching/EpochPermutation.swift. Pure Python integers masked to 64 bits; no numpy here.
"""

import math

MASK = (1 << 64) - 1
PERMUTATION, INITIALIZATION = 1, 2  # PortableRandom.Stream


def _split_mix(state):
    """SplitMix64: (new state, output word)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


class PortableRandom:
    """PortableRandom(seed:stream:index:) of trainer, bit for bit."""

    def __init__(self, seed, stream, index=0):
        mixer = seed & MASK
        mixer, word = _split_mix(mixer)
        mixer ^= word ^ ((stream * 0x9E3779B97F4A7C15) & MASK)
        mixer, word = _split_mix(mixer)
        mixer ^= word ^ ((index * 0xD1B54A32D192ED03) & MASK)
        self.s = []
        for _ in range(4):
            mixer, word = _split_mix(mixer)
            self.s.append(word)

    def next(self):
        """xoshiro256**: the next 64 bits."""
        s0, s1, s2, s3 = self.s
        x = (s1 * 5) & MASK
        result = ((((x << 7) | (x >> 57)) & MASK) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK
        self.s = [s0, s1, s2, s3]
        return result

    def next_below(self, bound):
        """Lemire's unbiased integer in [0, bound)."""
        product = self.next() * bound
        low = product & MASK
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = self.next() * bound
                low = product & MASK
        return product >> 64

    def next_in(self, low, high):
        """A uniform double in [low, high) from 53 random bits."""
        return low + (high - low) * ((self.next() >> 11) * 2.0 ** -53)


def epoch_permutation(count, seed, epoch):
    """trainer's epochPermutation(count:seed:epoch:): Fisher–Yates from the end."""
    random = PortableRandom(seed, PERMUTATION, epoch & MASK)
    order = list(range(count))
    for last in range(count - 1, 0, -1):
        j = random.next_below(last + 1)
        order[last], order[j] = order[j], order[last]
    return order


def initial_layers(widths, seed):
    """trainer's Initialization.initialize for dense layers `widths`: per layer, its weights
    (outputs × inputs, row-major) then its biases, each U(±1/√inputs) in double, then rounded to
    float32 by the caller. Returns [(weights as a list of rows, biases)] in Python floats."""
    random = PortableRandom(seed, INITIALIZATION)
    layers = []
    for inputs, outputs in zip(widths[:-1], widths[1:]):
        bound = 1 / math.sqrt(inputs)
        weights = [[random.next_in(-bound, bound) for _ in range(inputs)] for _ in range(outputs)]
        biases = [random.next_in(-bound, bound) for _ in range(outputs)]
        layers.append((weights, biases))
    return layers
