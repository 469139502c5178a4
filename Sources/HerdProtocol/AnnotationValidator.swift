/// Checks one annotation against `AnnotationSet.Limits`; errors name the offending field.
struct AnnotationValidator {
    let limits: AnnotationSet.Limits
    let path: String

    private func fail(_ field: String, _ why: String) -> AnnotationError {
        .invalidAnnotation("\(path).\(field): \(why)")
    }

    private func number(_ v: Double, _ field: String) throws(AnnotationError) {
        guard v.isFinite, abs(v) <= limits.maxCoordinate else {
            throw fail(field, "\(v) is not a finite coordinate within ±\(Int(limits.maxCoordinate))")
        }
    }

    private func point(_ p: PixelPoint, _ field: String) throws(AnnotationError) {
        try number(p.x, field)
        try number(p.y, field)
    }

    private func points(_ ps: [PixelPoint], minimum: Int, _ field: String) throws(AnnotationError) {
        guard ps.count >= minimum else { throw fail(field, "needs at least \(minimum) points, has \(ps.count)") }
        guard ps.count <= limits.maxPointsPerShape else {
            throw fail(field, "\(ps.count) points, more than the limit of \(limits.maxPointsPerShape)")
        }
        for (i, p) in ps.enumerated() { try point(p, "\(field)[\(i)]") }
    }

    private func text(_ s: String?, _ field: String, limit: Int) throws(AnnotationError) {
        guard let s else { return }
        guard s.unicodeScalars.count <= limit else { throw fail(field, "longer than \(limit) characters") }
    }

    private func colour(_ s: String?, _ field: String) throws(AnnotationError) {
        guard let s else { return }
        var hex = Substring(s)
        if hex.hasPrefix("#") { hex = hex.dropFirst() }
        guard [3, 6, 8].contains(hex.count), hex.allSatisfy(\.isHexDigit) else {
            throw fail(field, "'\(s)' is not a colour (#RGB, #RRGGBB or #RRGGBBAA)")
        }
    }

    private func style(_ style: AnnotationStyle?) throws(AnnotationError) {
        guard let style else { return }
        try colour(style.stroke, "style.stroke")
        try colour(style.fill, "style.fill")
        try colour(style.text, "style.text")
        if let w = style.strokeWidth, !(w.isFinite && w >= 0 && w <= 200) { throw fail("style.strokeWidth", "must be 0...200") }
        if let f = style.fontSize, !(f.isFinite && f >= 4 && f <= 400) { throw fail("style.fontSize", "must be 4...400") }
        if let o = style.opacity, !(o.isFinite && o >= 0 && o <= 1) { throw fail("style.opacity", "must be 0...1") }
    }

    /// 1 to 128 characters, none of them white space, a control character, `"`, `/` or `\`: ids name
    /// zones and lines in any script (`zone-猪圈A`) yet stay one token in a log line or a path.
    private func identity(_ id: String?) throws(AnnotationError) {
        guard let id else { return }
        guard PlainIdentifier.isValid(id, maxLength: 128) else {
            throw fail("id", "'\(id.prefix(80))' is not 1 to 128 characters without spaces, control characters, quotes or slashes")
        }
    }

    func validate(_ item: Annotation) throws(AnnotationError) {
        try identity(item.id)
        switch item {
        case .box(let box):
            try number(box.rect.x, "rect.x")
            try number(box.rect.y, "rect.y")
            try number(box.rect.width, "rect.width")
            try number(box.rect.height, "rect.height")
            guard box.rect.width >= 0, box.rect.height >= 0 else { throw fail("rect", "width and height must not be negative") }
            if let c = box.confidence, !(c >= 0 && c <= 1) { throw fail("confidence", "must be 0...1") }
            try text(box.label, "label", limit: limits.maxLabelLength)
            try text(box.objectClass, "class", limit: 64)
            try style(box.style)
        case .polygon(let polygon):
            try points(polygon.points, minimum: 3, "points")
            try text(polygon.label, "label", limit: limits.maxLabelLength)
            try style(polygon.style)
        case .polyline(let line):
            try points(line.points, minimum: 2, "points")
            try text(line.label, "label", limit: limits.maxLabelLength)
            try style(line.style)
        case .point(let p):
            try point(p.at, "at")
            if let r = p.radius, !(r.isFinite && r > 0 && r <= limits.maxCoordinate) {
                throw fail("radius", "must be a positive number of pixels up to \(Int(limits.maxCoordinate))")
            }
            try text(p.label, "label", limit: limits.maxLabelLength)
            try style(p.style)
        case .arrow(let arrow):
            try point(arrow.from, "from")
            try point(arrow.to, "to")
            try text(arrow.label, "label", limit: limits.maxLabelLength)
            try style(arrow.style)
        case .text(let t):
            try point(t.at, "at")
            try text(t.text, "text", limit: limits.maxTextLength)
            try style(t.style)
        case .hud(let hud):
            guard hud.entries.count <= limits.maxHUDEntries else {
                throw fail("entries", "\(hud.entries.count) entries, more than the limit of \(limits.maxHUDEntries)")
            }
            for (i, e) in hud.entries.enumerated() {
                try text(e.key, "entries[\(i)].key", limit: limits.maxLabelLength)
                try text(e.value, "entries[\(i)].value", limit: limits.maxLabelLength)
            }
            try style(hud.style)
        case .alert(let alert):
            try text(alert.message, "message", limit: limits.maxTextLength)
            try text(alert.code, "code", limit: 64)
            try style(alert.style)
        }
    }
}
