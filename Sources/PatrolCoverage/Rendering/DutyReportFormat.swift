import PatrolCore

/// The formats `patrol-centre duty report` writes.
public enum DutyReportFormat: String, Sendable, CaseIterable {
    case table, csv, html, json

    public func render(_ report: DutyReport) -> String {
        switch self {
        case .table: DutyReportText.table(report)
        case .csv: DutyReportText.csv(report)
        case .html: DutyReportText.html(report)
        case .json: DutyReportText.json(report)
        }
    }
}

/// The duty report as staff read it (table), file it (CSV, HTML) and feed it to programs (JSON).
/// Times are local to the plan's zone with their offset; durations in hours to 2 decimals in CSV
/// and JSON, so a spreadsheet adds them up as the table shows them.
enum DutyReportText {
    static func hours(_ seconds: Double) -> String { FixedDecimal.format(seconds / 3600, decimals: 2, trim: false) }

    static func quota(_ check: QuotaCheck, unit: String) -> String {
        let achieved = FixedDecimal.format(check.achieved, decimals: unit == "h" ? 2 : 0, trim: false) + " " + unit
        guard let required = check.required else { return "\(check.period) \(achieved)" }
        return "\(check.period) \(achieved) of \(FixedDecimal.format(required, decimals: unit == "h" ? 2 : 0)) \(unit): \(check.verdict.rawValue)"
    }

    static func end(_ duty: MeasuredDuty, _ zone: TimeZoneRules) -> String {
        duty.session.signOff == nil ? "OPEN (no sign-off; counted to \(zone.iso8601(duty.counted.upperBound)))" : zone.iso8601(duty.counted.upperBound)
    }

    static func post(_ fit: PostFit) -> String {
        switch fit {
        case .areas(let areas): "areas " + areas.joined(separator: " ")
        case .fixed: "fixed post"
        case .offPost: "not on the person's posts"
        case .notInPlan: "not in the plan"
        }
    }

    static func table(_ report: DutyReport) -> String {
        let zone = report.plan.timeZone
        var out = "\(report.plan.name): duty \(zone.iso8601(report.range.lowerBound)) → \(zone.iso8601(report.range.upperBound))"
            + (zone == .utc ? "\n" : " (\(zone.name))\n")
        out += "on patrol: signed on and moving within the post's areas (at a fixed post: signed on); weeks are ISO weeks, Monday to Sunday local time\n"
        out += "\npersons\n"
        if report.persons.isEmpty { out += "  the plan lists no [[person]]\n" }
        for person in report.persons {
            out += "  \(person.id)\(person.name.map { " (\($0))" } ?? "")  signed on \(Formatting.duration(person.signedOnSeconds)), on patrol \(Formatting.duration(person.patrolSeconds)), \(person.dutyDays) duty days\n"
            for week in person.weeks { out += "    week  \(quota(week, unit: "h"))\n" }
            for month in person.months { out += "    month \(quota(month, unit: "days"))\n" }
        }
        out += "\nunits\n"
        if report.units.isEmpty { out += "  nobody signed on\n" }
        for unit in report.units {
            out += "  \(unit.device)  staffed \(Formatting.duration(unit.staffedSeconds)), \(unit.sessions) sessions, person-time signed on \(Formatting.duration(unit.personSignedOnSeconds)), on patrol \(Formatting.duration(unit.personPatrolSeconds))  (\(unit.persons.joined(separator: ", ")))\n"
        }
        out += "\nareas\n"
        for area in report.areas {
            out += "  \(area.area)  on patrol \(Formatting.duration(area.patrolSeconds))  by \(area.persons.isEmpty ? "nobody" : area.persons.joined(separator: ", "))  (posted: \(area.postedPersons.joined(separator: ", ")))\n"
        }
        out += "\nsessions\n"
        if report.sessions.isEmpty { out += "  none\n" }
        for duty in report.sessions {
            out += "  \(duty.session.label)  \(duty.session.device)  \(zone.iso8601(duty.counted.lowerBound)) → \(end(duty, zone))  signed on \(Formatting.duration(duty.signedOnSeconds)), on patrol \(Formatting.duration(duty.patrolSeconds))  \(post(duty.post))\n"
            out += "    sign-on \(zone.iso8601(duty.session.signOn)): \(duty.session.signOnSource.text(in: zone))\n"
            if let signOff = duty.session.signOff, let source = duty.session.signOffSource {
                out += "    sign-off \(zone.iso8601(signOff)): \(source.text(in: zone))\n"
            }
        }
        if !report.notes.isEmpty {
            out += "\nnotes\n"
            for note in report.notes { out += "  \(note.kind.rawValue): \(note.text)\n" }
        }
        return out
    }

    static let csvHeader = "table,who,device,start,end,signed_on_h,on_patrol_h,period,achieved,required,verdict,detail"

    /// Every part in one CSV, told apart by the first column: `person`, `week`, `month`, `unit`,
    /// `area`, `session`, `note`.
    static func csv(_ report: DutyReport) -> String {
        let zone = report.plan.timeZone
        var rows: [[String]] = []
        for person in report.persons {
            rows.append(["person", person.id, "", "", "", hours(person.signedOnSeconds), hours(person.patrolSeconds), "", "\(person.dutyDays)", "", "", "duty days"])
            for (kind, checks) in [("week", person.weeks), ("month", person.months)] {
                for check in checks {
                    rows.append([kind, person.id, "", zone.iso8601(check.interval.lowerBound), zone.iso8601(check.interval.upperBound), "", "",
                                 check.period, FixedDecimal.format(check.achieved, decimals: 2, trim: false),
                                 check.required.map { FixedDecimal.format($0, decimals: 2, trim: false) } ?? "", check.verdict.rawValue,
                                 kind == "week" ? "hours on patrol" : "days with \(FixedDecimal.format(report.plan.dutyRules.dayMinimumMinutes, decimals: 0)) min on patrol"])
                }
            }
        }
        for unit in report.units {
            rows.append(["unit", unit.persons.joined(separator: " "), unit.device, "", "", hours(unit.personSignedOnSeconds), hours(unit.personPatrolSeconds),
                         "", hours(unit.staffedSeconds), "", "", "\(unit.sessions) sessions; achieved = hours staffed"])
        }
        for area in report.areas {
            rows.append(["area", area.persons.joined(separator: " "), "", "", "", "", hours(area.patrolSeconds), "", "", "", "", area.area])
        }
        for duty in report.sessions {
            rows.append(["session", duty.session.label, duty.session.device, zone.iso8601(duty.counted.lowerBound), zone.iso8601(duty.counted.upperBound),
                         hours(duty.signedOnSeconds), hours(duty.patrolSeconds), "", "", "", duty.session.signOff == nil ? "open" : "",
                         "sign-on: \(duty.session.signOnSource.text(in: zone)); sign-off: \(duty.session.signOffSource?.text(in: zone) ?? "none"); \(post(duty.post))"])
        }
        for note in report.notes {
            rows.append(["note", "", "", zone.iso8601(note.time), "", "", "", "", "", "", note.kind.rawValue, note.text])
        }
        return csvHeader + "\n" + rows.map { $0.map(CSVField.quoted).joined(separator: ",") + "\n" }.joined()
    }

    static func json(_ report: DutyReport) -> String {
        let zone = report.plan.timeZone
        func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
        func strings(_ items: [String]) -> String {
            array(items.map { item in
                var quoted = ""
                JSONObjectWriter.appendQuoted(item, to: &quoted)
                return quoted
            })
        }
        func quota(_ check: QuotaCheck) -> String {
            var w = JSONObjectWriter()
            w.add("period", check.period)
            w.add("start", zone.iso8601(check.interval.lowerBound))
            w.add("end", zone.iso8601(check.interval.upperBound))
            w.add("achieved", check.achieved, decimals: 2)
            if let required = check.required { w.add("required", required, decimals: 2) }
            w.add("verdict", check.verdict.rawValue)
            return w.json
        }
        var root = JSONObjectWriter()
        root.add("plan", report.plan.name)
        root.add("from", zone.iso8601(report.range.lowerBound))
        root.add("to", zone.iso8601(report.range.upperBound))
        root.add("time_zone", zone.name)
        root.addRaw("persons", array(report.persons.map { person in
            var w = JSONObjectWriter()
            w.add("id", person.id)
            if let name = person.name { w.add("name", name) }
            w.add("signed_on_h", person.signedOnSeconds / 3600, decimals: 2)
            w.add("on_patrol_h", person.patrolSeconds / 3600, decimals: 2)
            w.add("duty_days", person.dutyDays)
            w.addRaw("weeks", array(person.weeks.map(quota)))
            w.addRaw("months", array(person.months.map(quota)))
            return w.json
        }))
        root.addRaw("units", array(report.units.map { unit in
            var w = JSONObjectWriter()
            w.add("device", unit.device)
            w.add("sessions", unit.sessions)
            w.addRaw("persons", strings(unit.persons))
            w.add("staffed_h", unit.staffedSeconds / 3600, decimals: 2)
            w.add("signed_on_h", unit.personSignedOnSeconds / 3600, decimals: 2)
            w.add("on_patrol_h", unit.personPatrolSeconds / 3600, decimals: 2)
            return w.json
        }))
        root.addRaw("areas", array(report.areas.map { area in
            var w = JSONObjectWriter()
            w.add("area", area.area)
            w.add("on_patrol_h", area.patrolSeconds / 3600, decimals: 2)
            w.addRaw("persons", strings(area.persons))
            w.addRaw("posted", strings(area.postedPersons))
            return w.json
        }))
        root.addRaw("sessions", array(report.sessions.map { duty in
            var w = JSONObjectWriter()
            w.add("who", duty.session.label)
            if let person = duty.session.person { w.add("person", person) }
            w.add("device", duty.session.device)
            w.add("sign_on", zone.iso8601(duty.session.signOn))
            w.add("sign_on_evidence", duty.session.signOnSource.text(in: zone))
            if let signOff = duty.session.signOff { w.add("sign_off", zone.iso8601(signOff)) }
            if let source = duty.session.signOffSource { w.add("sign_off_evidence", source.text(in: zone)) }
            w.add("open", duty.session.signOff == nil)
            w.add("counted_from", zone.iso8601(duty.counted.lowerBound))
            w.add("counted_to", zone.iso8601(duty.counted.upperBound))
            w.add("signed_on_h", duty.signedOnSeconds / 3600, decimals: 2)
            w.add("on_patrol_h", duty.patrolSeconds / 3600, decimals: 2)
            w.add("post", post(duty.post))
            return w.json
        }))
        root.addRaw("notes", array(report.notes.map { note in
            var w = JSONObjectWriter()
            w.add("kind", note.kind.rawValue)
            w.add("time", zone.iso8601(note.time))
            w.add("text", note.text)
            return w.json
        }))
        return root.json + "\n"
    }

    static func html(_ report: DutyReport) -> String {
        let zone = report.plan.timeZone
        func escaped(_ text: String) -> String { TrackExporter.xmlEscaped(text) }
        func row(_ cells: [String]) -> String { "<tr>" + cells.map { "<td>\(escaped($0))</td>" }.joined() + "</tr>" }
        let personRows = report.persons.map { person in
            row([person.id + (person.name.map { " (\($0))" } ?? ""), Formatting.duration(person.signedOnSeconds), Formatting.duration(person.patrolSeconds),
                 "\(person.dutyDays)", person.weeks.map { quota($0, unit: "h") }.joined(separator: "; "),
                 person.months.map { quota($0, unit: "days") }.joined(separator: "; ")])
        }.joined(separator: "\n")
        let unitRows = report.units.map { unit in
            row([unit.device, Formatting.duration(unit.staffedSeconds), "\(unit.sessions)", Formatting.duration(unit.personSignedOnSeconds),
                 Formatting.duration(unit.personPatrolSeconds), unit.persons.joined(separator: ", ")])
        }.joined(separator: "\n")
        let areaRows = report.areas.map { area in
            row([area.area, Formatting.duration(area.patrolSeconds), area.persons.joined(separator: ", "), area.postedPersons.joined(separator: ", ")])
        }.joined(separator: "\n")
        let sessionRows = report.sessions.map { duty in
            row([duty.session.label, duty.session.device, zone.iso8601(duty.counted.lowerBound), end(duty, zone),
                 Formatting.duration(duty.signedOnSeconds), Formatting.duration(duty.patrolSeconds), post(duty.post),
                 duty.session.signOnSource.text(in: zone) + (duty.session.signOffSource.map { "; sign-off: " + $0.text(in: zone) } ?? "")])
        }.joined(separator: "\n")
        let noteItems = report.notes.map { "<li>\(escaped($0.kind.rawValue)): \(escaped($0.text))</li>" }.joined(separator: "\n")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(escaped(report.plan.name)) duty</title>
        <style>
        body { font-family: sans-serif; margin: 1.5em; color: black; }
        table { border-collapse: collapse; margin-bottom: 1.5em; }
        th, td { border: 1px solid #999; padding: 0.2em 0.5em; text-align: left; }
        @media print { body { margin: 0; } }
        </style></head><body>
        <h1>\(escaped(report.plan.name)): duty</h1>
        <p>\(zone.iso8601(report.range.lowerBound)) → \(zone.iso8601(report.range.upperBound)) (\(escaped(zone.name))). On patrol: signed on and
        moving within the post's areas (at a fixed post: signed on). Weeks are ISO weeks, Monday to Sunday local time.</p>
        <h2>Persons and quotas</h2>
        <table><tr><th>person</th><th>signed on</th><th>on patrol</th><th>duty days</th><th>weeks</th><th>months</th></tr>
        \(personRows)</table>
        <h2>Units</h2>
        <table><tr><th>unit</th><th>staffed</th><th>sessions</th><th>person-time signed on</th><th>on patrol</th><th>who</th></tr>
        \(unitRows)</table>
        <h2>Areas</h2>
        <table><tr><th>area</th><th>on patrol</th><th>by</th><th>posted</th></tr>
        \(areaRows)</table>
        <h2>Sessions</h2>
        <table><tr><th>who</th><th>unit</th><th>from</th><th>to</th><th>signed on</th><th>on patrol</th><th>post</th><th>evidence</th></tr>
        \(sessionRows)</table>
        <h2>Notes</h2>
        <ul>\(noteItems)</ul>
        </body></html>

        """
    }
}
