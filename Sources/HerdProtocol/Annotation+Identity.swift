extension Annotation {
    /// The item's optional identity.
    public var id: String? {
        switch self {
        case .box(let x): x.id
        case .polygon(let x): x.id
        case .polyline(let x): x.id
        case .point(let x): x.id
        case .arrow(let x): x.id
        case .text(let x): x.id
        case .hud(let x): x.id
        case .alert(let x): x.id
        }
    }

    /// Who made the item, when it says.
    public var source: AnnotationSource? {
        switch self {
        case .box(let x): x.source
        case .polygon(let x): x.source
        case .polyline(let x): x.source
        case .point(let x): x.source
        case .arrow(let x): x.source
        case .text(let x): x.source
        case .hud(let x): x.source
        case .alert(let x): x.source
        }
    }

    /// The same item with `id` and `source` set (an `id` of nil keeps the one it has).
    public func identified(_ id: String?, source: AnnotationSource) -> Annotation {
        func apply<T>(_ item: T, _ path: WritableKeyPath<T, String?>, _ sourcePath: WritableKeyPath<T, AnnotationSource?>) -> T {
            var copy = item
            if let id { copy[keyPath: path] = id }
            copy[keyPath: sourcePath] = source
            return copy
        }
        switch self {
        case .box(let x): return .box(apply(x, \.id, \.source))
        case .polygon(let x): return .polygon(apply(x, \.id, \.source))
        case .polyline(let x): return .polyline(apply(x, \.id, \.source))
        case .point(let x): return .point(apply(x, \.id, \.source))
        case .arrow(let x): return .arrow(apply(x, \.id, \.source))
        case .text(let x): return .text(apply(x, \.id, \.source))
        case .hud(let x): return .hud(apply(x, \.id, \.source))
        case .alert(let x): return .alert(apply(x, \.id, \.source))
        }
    }
}
