import PatrolCore

/// What every printable report page shares (the shift report, the period summary, the duty
/// report): one head and one style, so that what a supervisor prints and signs looks alike.
enum PrintablePage {
    /// From `<!DOCTYPE html>` to the opening `<body>`: the escaped `title`, the shared style, then
    /// `style` (the page's own rules, its `@media print` among them).
    static func head(title: String, style: String = "@media print { body { margin: 0; } }") -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(TrackExporter.xmlEscaped(title))</title>
        <style>
        body { font-family: sans-serif; margin: 1.5em; color: black; }
        table { border-collapse: collapse; margin-bottom: 1.5em; }
        th, td { border: 1px solid #999; padding: 0.2em 0.5em; text-align: left; }
        \(style)
        </style></head><body>
        """
    }
}
