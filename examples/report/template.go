package main

import "html/template"

// page is the report's HTML: one file, its CSS inline, no script, nothing
// fetched. The verdict lines are pathdiag's: a word and a colour, the
// action under it, and a "?" (a details element, no script) with what the
// check tests, its model and the figures it used.
var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: #1b1b1b;
  margin: 0 auto; max-width: 1280px; padding: 1.2em 2em 3em; background: #fff; }
h1 { font-size: 1.35em; margin: 0 0 .3em; }
h2 { font-size: 1.12em; margin: 2em 0 .6em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
h3 { font-size: 1em; margin: 1.2em 0 .4em; }
p.conclusion { font-size: 1.2em; font-weight: 600; margin: .6em 0 1em; padding: .7em 1em; background: #f3f6fa; border-left: 5px solid #0072B2; }
table { border-collapse: collapse; font-size: .9em; margin: .4em 0; }
th, td { padding: .25em .6em; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.warnings { background: #fff8e1; border: 1px solid #e6c200; padding: .6em 1em; margin: .8em 0; }
.warnings ul { margin: .2em 0; padding-left: 1.2em; }
.target { color: #444; font-size: .92em; }
.verdict { margin: .2em 0 1.2em; }
.line { display: grid; grid-template-columns: 6.5em 1fr; column-gap: .8em; padding: .45em .2em; border-bottom: 1px solid #eee; }
.badge { font-weight: 700; text-align: center; border-radius: 3px; padding: .05em .3em; height: fit-content; color: #fff; letter-spacing: .03em; }
.pass .badge { background: #1a7f37; }
.warning .badge { background: #b35900; }
.fail .badge { background: #c62828; }
.info .badge { background: #6b6b6b; }
.check { font-weight: 600; margin-right: .4em; }
.action { margin-top: .2em; color: #333; }
.action::before { content: "action: "; font-weight: 600; }
details { float: right; margin: 0 0 .2em .8em; font-size: .9em; color: #333; }
details[open] { float: none; margin: .2em 0; padding: .3em .6em; background: #fafafa; border: 1px solid #e3e3e3; }
details summary { cursor: pointer; display: inline-block; width: 1.4em; text-align: center; border: 1px solid #999; border-radius: 50%; font-weight: 700; list-style: none; }
details summary::-webkit-details-marker { display: none; }
details dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em .8em; margin: .4em 0; }
details dt { font-weight: 600; }
details dd { margin: 0; }
.bar { width: 100%; height: 18px; display: block; }
td.barcell { width: 60%; min-width: 260px; }
.legend span { display: inline-block; margin-right: 1.2em; font-size: .88em; }
.legend i { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; }
figure { margin: 1.4em 0; }
figure svg.fig { width: 100%; height: auto; display: block; }
figcaption { font-size: .9em; color: #333; margin-top: .4em; max-width: 75em; }
.more { color: #555; font-size: .9em; }
tr.err td { color: #c62828; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="conclusion" id="conclusion">{{.Conclusion}}</p>

<table id="captures">
<tr><th>capture</th><th>format</th><th>first packet</th><th class="n">span</th><th class="n">packets</th><th class="n">TCP packets</th><th class="n">connections</th><th>other traffic</th><th>lost most time</th></tr>
{{range .Captures}}<tr><td>{{.File}}</td><td>{{.Format}}</td><td>{{.First}}</td><td class="n">{{.Span}}</td><td class="n">{{.Packets}}</td><td class="n">{{.TCPPackets}}</td><td class="n">{{.Conns}}</td><td>{{.Other}}</td><td>{{if .TopLabel}}{{.TopLabel}}: {{.TopLost}}, limited by {{.TopLimit}}{{end}}</td></tr>
{{end}}</table>

{{if .Warnings}}<div class="warnings" id="warnings"><b>Capture quality</b>: the figures these issues undermine are not to be trusted.
<ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul></div>{{end}}

<h2 id="verdicts">Verdict</h2>
<p class="target">{{.Target}}</p>
{{range .Verdicts}}<div class="verdict"><h3>{{.Heading}}</h3>
{{range .Lines}}<div class="line {{.Class}}"><span class="badge">{{.Word}}</span><div><details><summary title="what this check tests">?</summary><dl>
<dt>tests</dt><dd>{{.Tests}}</dd><dt>model</dt><dd>{{.Model}}</dd>
{{range .Figures}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>{{end}}
</dl></details><span class="check">{{.Check}}</span><span class="msg">{{.Message}}</span>
{{if .Action}}<div class="action">{{.Action}}</div>{{end}}</div></div>
{{end}}</div>
{{end}}

{{if .Conns.Rows}}<h2 id="budget">Where the time went</h2>
<p class="legend">{{range .Budget.Legend}}<span><i style="background:{{.Color}}"></i>{{.Label}}</span>{{end}}</p>
<table class="budget">
<tr><th>connection</th><th>time budget (the longest bar is {{.Budget.Scale}})</th><th class="n">duration</th><th class="n">lost</th></tr>
{{range $i, $r := .Budget.Rows}}<tr><td>{{$r.Label}}</td><td class="barcell"><svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-labelledby="bar{{$i}}"><title id="bar{{$i}}">time budget of {{$r.Label}}: {{$r.Duration}}, {{$r.Lost}} lost to the network</title>{{range $r.Parts}}<rect x="{{.X}}" y="0" width="{{.W}}" height="10" fill="{{.Color}}"><title>{{.Label}}: {{.Secs}}</title></rect>{{end}}</svg></td><td class="n">{{$r.Duration}}</td><td class="n">{{$r.Lost}}</td></tr>
{{end}}</table>
{{if .Budget.More}}<p class="more">… and {{.Budget.More}} more connections ({{.Budget.MoreDur}}).</p>{{end}}

<h2 id="whatif">What if</h2>
<p class="more">The duration each capture's connections would take (summed) at another round-trip time or bottleneck rate, and the round trips they would pay (explain's projection: think times stay, turns scale with the RTT, slow start is replayed).</p>
<table id="whatif-table"><tr><th></th>{{range .WhatIf.Captures}}<th class="n">{{.}}</th>{{end}}</tr>
{{range .WhatIf.Rows}}<tr><td>{{.Label}}</td>{{range .Cells}}<td class="n">{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .WhatIf.Assumptions}}<p class="more">Assuming: {{range $i, $a := .WhatIf.Assumptions}}{{if $i}}; {{end}}{{$a}}{{end}}. A range in brackets is the best and the worst case for what the projection cannot know (the observed losses gone or kept).</p>{{end}}

<h2 id="connections">Connections</h2>
<table id="conn-table"><tr><th>capture</th><th class="n">#</th><th>protocol</th><th>client</th><th>server</th><th class="n">duration s</th><th class="n">lost s</th><th class="n">turns</th><th class="n">RTT ms</th><th class="n">mean segment B</th><th class="n">below MSS</th><th class="n">ACKs per segment</th><th>limited by</th></tr>
{{range .Conns.Rows}}<tr class="conn"><td>{{.Capture}}</td><td class="n">{{.ID}}</td><td>{{.Proto}}</td><td>{{.Client}}</td><td>{{.Server}}</td><td class="n">{{.Duration}}</td><td class="n">{{.Lost}}</td><td class="n">{{.Turns}}</td><td class="n">{{.RTT}}</td><td class="n">{{.Segment}}</td><td class="n">{{.Small}}</td><td class="n">{{.Acks}}</td><td>{{.Limit}}</td></tr>
{{end}}</table>
{{range .Conns.More}}<p class="more">… {{.}}</p>{{end}}
{{else}}<h2 id="connections">Connections</h2><p class="more">No TCP connection.</p>
<table id="conn-table"></table><table id="whatif-table"></table>{{end}}

<h2 id="transactions">Transactions</h2>
{{range .Tx}}<h3>{{.Heading}}</h3>
<table class="tx-table"><tr><th class="n">#</th><th>request</th><th class="n">at s</th><th class="n">request B</th><th class="n">to first byte ms</th><th class="n">answer ms</th><th class="n">answer B</th><th class="n">turns</th></tr>
{{range .Rows}}<tr class="tx{{if .Error}} err{{end}}"><td class="n">{{.ID}}</td><td>{{.Kind}}</td><td class="n">{{.At}}</td><td class="n">{{.ReqBytes}}</td><td class="n">{{.Wait}}</td><td class="n">{{.Transfer}}</td><td class="n">{{.RespBytes}}</td><td class="n">{{.Turns}}</td></tr>
{{end}}</table>
{{if .More}}<p class="more">… and {{.More}} more.</p>{{end}}
{{else}}<p class="more">No application transaction was framed.</p>{{end}}

<h2 id="figures">Figures</h2>
{{range .Figures}}<figure id="{{.ID}}">{{.SVG}}<figcaption><b>{{.Title}}.</b> {{.Caption}}</figcaption></figure>
{{end}}
<p class="more">Made by netecology's examples/report from the captures alone: every figure and sentence above can be checked against them.</p>
</body>
</html>
`))
