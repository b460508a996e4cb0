import Support

/// The one order in which every sum over N ranks adds, and who holds which part of it on the way.
///
/// **The order** is a binary tree over the ranks that depends on N alone: level k adds
/// neighbouring blocks of 2ᵏ ranks, block [2j·2ᵏ, (2j+1)·2ᵏ) on the left, the next on the right;
/// a block with no right neighbour (N not a power of two) passes up unchanged:
///
///     N = 4:  (b₀ + b₁) + (b₂ + b₃)
///     N = 6:  ((b₀ + b₁) + (b₂ + b₃)) + (b₄ + b₅)
///     N = 7:  ((b₀ + b₁) + (b₂ + b₃)) + ((b₄ + b₅) + b₆)
///
/// element by element. Its depth is ⌈log₂ N⌉, so a sum crosses ⌈log₂ N⌉ additions (a left fold
/// crosses N − 1, and its rounding error grows with N rather than log N), and each aligned
/// block of 2ᵏ ranks is a subtree: ranks that share a machine in such blocks sum their part in
/// shared memory and send only its result. Threads, one shared window, point-to-point messages
/// and the hierarchy of windows and messages all compute this same tree, so N ranks anywhere
/// sum bit for bit like N threads.
///
/// **Who holds what** (recursive halving, the bandwidth-optimal reduce-scatter): think of
/// P = 2^⌈log₂ N⌉ virtual ranks, of which v ≥ N are absent. The index range of a sum is cut into
/// P pieces, piece(v) = `evenShare`(bitreverse(v), of: count, parts: P). After level k, virtual
/// rank v holds its level-k block's sum on S_k(v), the pieces of the virtual ranks that agree with
/// v in their k lowest bits — a contiguous range, the same for v and its partner v ⊕ 2ᵏ, halved at
/// each level: level 0 is the whole range, level ⌈log₂ N⌉ piece(v) alone. An absent rank's part is
/// held by a real one (`representative`): its partner when that is real, else whoever held it
/// before. `holding(_:level:count:)` is a real rank's part; at the last level, the rank's
/// `ownedChunk` — where a compressed sum keeps the rounding error of the sum itself.
public struct ReductionTree: Sendable, Equatable {
    /// N.
    public let ranks: Int
    /// ⌈log₂ N⌉: the tree's depth, and the number of levels of messages a flat sum takes.
    public let levels: Int
    /// `representatives[k][v]`: the real rank that holds virtual rank v's part after level k
    /// (-1: none, v's whole level-k block is absent).
    private let representatives: [[Int]]

    public init(ranks: Int) {
        precondition(ranks >= 1)
        self.ranks = ranks
        var levels = 0
        while 1 << levels < ranks { levels += 1 }
        self.levels = levels
        let width = 1 << levels
        var level = (0..<width).map { $0 < ranks ? $0 : -1 }
        var all = [level]
        for k in 0..<levels {
            level = (0..<width).map { v in
                let partner = v ^ (1 << k)
                if v < ranks { return v }
                if partner < ranks { return partner }
                return level[v] >= 0 ? level[v] : level[partner]
            }
            all.append(level)
        }
        representatives = all
    }

    /// P: the virtual ranks.
    var width: Int { 1 << levels }

    /// S_k(v): the part of `0..<count` that virtual rank v holds after level k.
    func segment(_ v: Int, level k: Int, count: Int) -> Range<Int> {
        let bits = levels - k
        var reversed = 0
        for b in 0..<k where v & (1 << b) != 0 { reversed |= 1 << (k - 1 - b) }
        let first = reversed << bits, last = (reversed + 1) << bits
        return evenShare(first, of: count, parts: width).lowerBound..<evenShare(last - 1, of: count, parts: width).upperBound
    }

    /// The part of `0..<count` that `rank` holds after `level` levels of the tree (0…`levels`):
    /// the sum of its level's block there. Contiguous; the ranks of a block's parts partition the range.
    public func holding(_ rank: Int, level: Int, count: Int) -> Range<Int> {
        var lower = count, upper = 0
        for v in 0..<width where representatives[level][v] == rank {
            let piece = segment(v, level: level, count: count)
            guard !piece.isEmpty else { continue }
            lower = Swift.min(lower, piece.lowerBound)
            upper = Swift.max(upper, piece.upperBound)
        }
        return lower < upper ? lower..<upper : 0..<0
    }

    /// The part whose sum `rank` completes, and where a compressed sum keeps its rounding error.
    public func ownedChunk(_ rank: Int, count: Int) -> Range<Int> { holding(rank, level: levels, count: count) }

    /// One message of a level: `from` sends its block's sum on `range` to `to`, which adds it to
    /// its own block's (forward), or sends back the finished sum there (backward).
    public struct Transfer: Sendable, Equatable {
        public let from: Int, to: Int
        public let range: Range<Int>
    }

    /// The messages of level k (from blocks of 2ᵏ ranks to blocks of 2ᵏ⁺¹), adjacent ranges
    /// between the same two ranks merged. Each rank receives at most one range per level, which
    /// it adds to the part it keeps.
    public func transfers(level k: Int, count: Int) -> [Transfer] {
        var found: [Transfer] = []
        for v in 0..<width {
            let range = segment(v, level: k + 1, count: count)
            let holder = representatives[k + 1][v]
            guard !range.isEmpty, holder >= 0 else { continue }
            let mine = representatives[k][v], theirs = representatives[k][v ^ (1 << k)]
            guard mine >= 0, theirs >= 0 else { continue }  // the other block is absent: passes up
            found.append(Transfer(from: holder == mine ? theirs : mine, to: holder, range: range))
        }
        found.sort { ($0.from, $0.to, $0.range.lowerBound) < ($1.from, $1.to, $1.range.lowerBound) }
        var merged: [Transfer] = []
        for transfer in found {
            if let last = merged.last, last.from == transfer.from, last.to == transfer.to,
               last.range.upperBound == transfer.range.lowerBound {
                merged[merged.count - 1] = Transfer(from: last.from, to: last.to, range: last.range.lowerBound..<transfer.range.upperBound)
            } else {
                merged.append(transfer)
            }
        }
        return merged
    }

    /// Level by level, k → k + 1: with the whole sum on every rank of a block (recursive doubling,
    /// fewer rounds for small sums), the ranks whose block sum `rank` adds: its partner rank ⊕ 2ᵏ,
    /// or a rank standing for it when that one is absent — nil when the partner block is absent.
    public func doublingSource(of rank: Int, level k: Int) -> Int? {
        let partner = rank ^ (1 << k)
        if partner < ranks { return partner }
        let base = partner & ~((1 << k) - 1)
        guard base < ranks else { return nil }
        return base + (rank & ((1 << k) - 1)) % (ranks - base)
    }

    /// Σ terms elementwise in this order: d[i] = tree(t₀[i], t₁[i], …) for i in 0..<count, with
    /// tᵣ = `terms[r]` + `offset` as `T`s, into `destination`, which may be one of the terms
    /// (each block of elements is read before it is written). `scratch`: `scratchBytes(terms:)`
    /// bytes, used for more than 4 terms.
    @inline(__always)
    public static func sum<T: BinaryFloatingPoint>(_ terms: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>, offset: Int,
                                                   count: Int, into destination: UnsafeMutablePointer<T>,
                                                   scratch: UnsafeMutableRawPointer?) {
        guard count > 0 else { return }
        func term(_ r: Int) -> UnsafePointer<T> { UnsafePointer(terms[r]!.assumingMemoryBound(to: T.self) + offset) }
        let d = destination
        switch terms.count {
        case 1:
            if d != term(0) { d.update(from: term(0), count: count) }
        case 2:
            let (t0, t1) = (term(0), term(1))
            for i in 0..<count { d[i] = t0[i] + t1[i] }
        case 3:
            let (t0, t1, t2) = (term(0), term(1), term(2))
            for i in 0..<count { d[i] = (t0[i] + t1[i]) + t2[i] }
        case 4:
            let (t0, t1, t2, t3) = (term(0), term(1), term(2), term(3))
            for i in 0..<count { d[i] = (t0[i] + t1[i]) + (t2[i] + t3[i]) }
        default:
            sumInBlocks(terms.count, term, count: count, into: d, scratch: scratch!)
        }
    }

    /// Elements per block of the general sum.
    static let block = 256

    /// The scratch memory `sum` needs for `terms` terms.
    public static func scratchBytes<T>(terms: Int, of _: T.Type) -> Int {
        var depth = 1
        while 1 << (depth - 1) < terms { depth += 1 }
        return terms > 4 ? block * depth * MemoryLayout<T>.stride + depth * MemoryLayout<Int>.stride : 0
    }

    /// The tree of `n` terms over blocks of elements, as a binary counter: each term is pushed
    /// as a level-0 partial sum; two partial sums of the same level merge (left + right) into one
    /// of the next; at the end the partial sums left merge from the right.
    private static func sumInBlocks<T: BinaryFloatingPoint>(_ n: Int, _ term: (Int) -> UnsafePointer<T>, count: Int,
                                                            into d: UnsafeMutablePointer<T>, scratch: UnsafeMutableRawPointer) {
        var depth = 1
        while 1 << (depth - 1) < n { depth += 1 }
        let levelOf = scratch.assumingMemoryBound(to: Int.self)
        let partials = (scratch + depth * MemoryLayout<Int>.stride).assumingMemoryBound(to: T.self)
        var start = 0
        while start < count {
            let c = Swift.min(block, count - start)
            var top = 0
            for r in 0..<n {
                let t = term(r) + start
                if top > 0, levelOf[top - 1] == 0 {
                    let p = partials + (top - 1) * block
                    for i in 0..<c { p[i] = p[i] + t[i] }
                    levelOf[top - 1] = 1
                } else {
                    (partials + top * block).update(from: t, count: c)
                    levelOf[top] = 0
                    top += 1
                }
                while top >= 2, levelOf[top - 1] == levelOf[top - 2] {
                    let left = partials + (top - 2) * block, right = partials + (top - 1) * block
                    for i in 0..<c { left[i] = left[i] + right[i] }
                    levelOf[top - 2] += 1
                    top -= 1
                }
            }
            while top >= 2 {
                let left = partials + (top - 2) * block, right = partials + (top - 1) * block
                for i in 0..<c { left[i] = left[i] + right[i] }
                top -= 1
            }
            (d + start).update(from: partials, count: c)
            start += c
        }
    }
}
