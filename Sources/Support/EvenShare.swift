/// Piece `part` of `0..<size` cut into `parts` contiguous pieces in order:
/// [⌊part·size/parts⌋, ⌊(part+1)·size/parts⌋). The pieces partition the range, their sizes differ
/// by at most one, and some are empty when size < parts. Rank r's share of a batch, of the test
/// set, or of a buffer to reduce. Needs 0 ≤ part < parts; never overflows.
public func evenShare(_ part: Int, of size: Int, parts: Int) -> Range<Int> {
    func bound(_ p: Int) -> Int { parts.dividingFullWidth(p.multipliedFullWidth(by: size)).quotient }
    return bound(part)..<bound(part + 1)
}
