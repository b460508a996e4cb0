/// Cosine and sine of `angle` (radians) from +, ×, ÷ only, so synthetic data are identical on
/// every platform and C library. Accurate to a few ulp for |angle| up to a few thousand.
func portableCosineAndSine(_ angle: Double) -> (cosine: Double, sine: Double) {
    let twoPi = 6.283_185_307_179_586_476_925_286_766_559
    // Reduce to [-π, π].
    var x = angle - twoPi * (angle / twoPi).rounded()
    if x > twoPi / 2 { x -= twoPi }
    if x < -twoPi / 2 { x += twoPi }
    let x2 = x * x
    var cosine = 0.0, sine = 0.0
    var cosineTerm = 1.0, sineTerm = x
    var k = 0.0
    while true {
        let nextCosine = cosine + cosineTerm, nextSine = sine + sineTerm
        if nextCosine == cosine && nextSine == sine { break }
        cosine = nextCosine; sine = nextSine
        cosineTerm *= -x2 / ((k + 1) * (k + 2))
        sineTerm *= -x2 / ((k + 2) * (k + 3))
        k += 2
    }
    return (cosine, sine)
}
