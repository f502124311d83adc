"""Plotly figures in one house style (pure drawing: finished numbers in, figures out).

CRM text (segments, sources, names) is escaped before it reaches a figure, because Plotly
renders a subset of HTML (links, bold) inside labels.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from smarketing.ui.fmt import STATUS_TEXT, status_word

COLORS = {
    "marketing": "#2563eb",
    "marketing_light": "#bfdbfe",
    "sales": "#7c3aed",
    "sales_light": "#ddd6fe",
    "revenue": "#0d9488",
    "target": "#475569",
    "projection": "#f59e0b",
    "muted": "#94a3b8",
    "grid": "#eef2f7",
}
STATUS_COLORS = {
    "met": "#16a34a",
    "on_track": "#3b82f6",
    "at_risk": "#f59e0b",
    "behind": "#dc2626",
    "missed": "#b91c1c",
    "breached": "#b91c1c",
    "pending": "#94a3b8",
    "no_data": "#cbd5e1",
    "not_started": "#cbd5e1",
    "no_activity_data": "#cbd5e1",
}
TEMPLATE = "smarketing"
MONTH_BAR_MS = 24 * 24 * 3600 * 1000  # bar width on a date axis: 24 days
CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


def _register_template() -> None:
    """The house plotly template: quiet grid, system font, horizontal legend on top."""
    pio.templates[TEMPLATE] = go.layout.Template(
        layout=go.Layout(
            font=dict(family="Inter, 'Segoe UI', system-ui, sans-serif", size=13, color="#1f2937"),
            colorway=[
                COLORS["marketing"],
                COLORS["sales"],
                COLORS["revenue"],
                "#f59e0b",
                "#db2777",
                "#0891b2",
                "#65a30d",
                "#9333ea",
                "#ea580c",
                "#475569",
            ],
            paper_bgcolor="rgba(0,0,0,0)",
            plot_bgcolor="rgba(0,0,0,0)",
            margin=dict(l=8, r=8, t=36, b=8),
            xaxis=dict(gridcolor=COLORS["grid"], linecolor="#cbd5e1", zeroline=False, automargin=True),
            yaxis=dict(gridcolor=COLORS["grid"], linecolor="#cbd5e1", zeroline=False, automargin=True),
            legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text=""),
            hoverlabel=dict(font_size=12),
            title=dict(font=dict(size=14), x=0, xanchor="left"),
            bargap=0.25,
        )
    )


_register_template()


def esc(text: object) -> str:
    """CRM text made safe for Plotly labels."""
    return html.escape("" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text))


def _figure(height: int, title: str | None = None) -> go.Figure:
    """An empty figure in the house style."""
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, height=height, title_text=title)
    return fig


def pace_chart(
    daily: pd.DataFrame,
    quota: float | None,
    mqls: int,
    projected: float | None,
    month_start: pd.Timestamp,
    month_end: pd.Timestamp,
    as_of_local: pd.Timestamp,
) -> go.Figure:
    """Cumulative MQLs against the straight pacing line and the projection to month end.

    `daily` is `marketing.daily_mqls`; times are local wall clock (naive)."""
    fig = _figure(300)
    now = min(as_of_local, month_end)
    days = daily.loc[pd.to_datetime(daily["day"]) + pd.Timedelta(days=1) <= now]
    xs = [month_start, *(pd.to_datetime(days["day"]) + pd.Timedelta(days=1))]
    ys = [0, *days["cumulative"]]
    if now > xs[-1]:
        xs.append(now)
        ys.append(mqls)
    if quota:
        fig.add_scatter(
            x=[month_start, month_end],
            y=[0, quota],
            mode="lines",
            name="Straight pacing",
            line=dict(color=COLORS["target"], dash="dot", width=2),
            hovertemplate="pacing line<extra></extra>",
        )
        fig.add_hline(
            y=quota,
            line=dict(color=COLORS["muted"], width=1),
            annotation_text=f"quota {quota:,.0f}",
            annotation_position="top left",
        )
    if projected is not None and now < month_end:
        fig.add_scatter(
            x=[now, month_end],
            y=[mqls, projected],
            mode="lines+markers",
            name="Projection",
            line=dict(color=COLORS["projection"], dash="dash", width=2),
            marker=dict(size=[0, 8]),
            hovertemplate="projected %{y:,.0f}<extra></extra>",
        )
    fig.add_scatter(
        x=xs,
        y=ys,
        mode="lines",
        name="MQLs delivered",
        line=dict(color=COLORS["marketing"], width=3),
        line_shape="hv",
        hovertemplate="%{x|%b %d}: %{y:,} MQLs<extra></extra>",
    )
    fig.update_xaxes(range=[month_start, month_end], tickformat="%b %d")
    fig.update_yaxes(rangemode="tozero", title_text="MQLs (cumulative)")
    return fig


def daily_bars(
    daily: pd.DataFrame, as_of_local: pd.Timestamp, even_rate: float | None, required_rate: float | None
) -> go.Figure:
    """MQLs per local day, with the even daily rate and the rate still required."""
    fig = _figure(300)
    days = pd.to_datetime(daily["day"])
    shown = daily.loc[days <= as_of_local.normalize()]
    fig.add_bar(
        x=pd.to_datetime(shown["day"]),
        y=shown["mqls"],
        name="MQLs that day",
        marker_color=COLORS["marketing"],
        hovertemplate="%{x|%a %b %d}: %{y} MQLs<extra></extra>",
    )
    span = [days.iloc[0] - pd.Timedelta(hours=12), days.iloc[-1] + pd.Timedelta(hours=12)]
    if even_rate:
        fig.add_scatter(
            x=span,
            y=[even_rate] * 2,
            mode="lines",
            name=f"Even pace {even_rate:.1f}/day",
            line=dict(color=COLORS["target"], dash="dot", width=2),
            hoverinfo="skip",
        )
    if required_rate:
        fig.add_scatter(
            x=[max(as_of_local.normalize(), span[0]), span[1]],
            y=[required_rate] * 2,
            mode="lines",
            name=f"Needed from today {required_rate:.1f}/day",
            line=dict(color=COLORS["projection"], dash="dash", width=2),
            hoverinfo="skip",
        )
    fig.update_xaxes(range=span, tickformat="%b %d")
    fig.update_yaxes(title_text="MQLs per day", rangemode="tozero")
    return fig


def source_bars(by_source: Sequence[Mapping], height: int = 280) -> go.Figure:
    """MQLs per source with its share, largest on top."""
    fig = _figure(height)
    ordered = sorted(by_source, key=lambda s: s["mqls"])
    total = sum(s["mqls"] for s in ordered) or 1
    fig.add_bar(
        y=[esc(s["source"]) for s in ordered],
        x=[s["mqls"] for s in ordered],
        orientation="h",
        marker_color=COLORS["marketing"],
        text=[f"{s['mqls']} · {s['mqls'] / total:.0%}" for s in ordered],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}: %{x} MQLs<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(title_text="MQLs", range=[0, max([s["mqls"] for s in ordered] + [1]) * 1.3])
    return fig


def segment_bars(by_segment: Sequence[Mapping], height: int = 260) -> go.Figure:
    """Delivered MQLs per segment against its quota and the straight-line expectation to date."""
    fig = _figure(height)
    names = [
        f"{esc(s['segment'])} · {status_word(s.get('status'))}" if s.get("quota") is not None else esc(s["segment"])
        for s in by_segment
    ]
    colors = [STATUS_COLORS.get(s.get("status") or "no_data", COLORS["marketing"]) for s in by_segment]
    fig.add_bar(
        y=names,
        x=[s["mqls"] for s in by_segment],
        orientation="h",
        name="Delivered",
        marker_color=colors,
        text=[f"{s['mqls']:,}" for s in by_segment],
        textposition="inside",
        insidetextanchor="start",
        textfont=dict(color="white"),
        hovertemplate="%{y}: %{x} delivered<extra></extra>",
    )
    if any(s.get("quota") is not None for s in by_segment):
        fig.add_scatter(
            y=names,
            x=[s.get("quota") for s in by_segment],
            mode="markers",
            name="Quota",
            marker=dict(symbol="line-ns", size=26, line=dict(width=3, color=COLORS["target"])),
            hovertemplate="%{y}: quota %{x}<extra></extra>",
        )
        fig.add_scatter(
            y=names,
            x=[s.get("expected_to_date") for s in by_segment],
            mode="markers",
            name="Expected by now",
            marker=dict(symbol="diamond", size=10, color=COLORS["projection"]),
            hovertemplate="%{y}: %{x:.0f} expected by now<extra></extra>",
        )
    fig.update_xaxes(title_text="MQLs", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    return fig


def response_histogram(response: pd.DataFrame, targets: Mapping[str, float], height: int = 300) -> go.Figure:
    """Distribution of first-response business hours per segment, each with its target line.

    `response` has columns segment and response_hours; `targets` maps segment → hours."""
    present = set(response["segment"].dropna().unique())
    segments = [s for s in targets if s in present] or list(targets)[:1]
    titles = [f"{esc(s)} · target {float(targets[s]):g} h" for s in segments]
    fig = make_subplots(rows=1, cols=len(segments), subplot_titles=titles, horizontal_spacing=0.06)
    for col, segment in enumerate(segments, start=1):
        target = float(targets[segment])
        cap = max(3 * target, 8.0)
        values = response.loc[response["segment"] == segment, "response_hours"].dropna().clip(upper=cap)
        fig.add_histogram(
            x=values,
            xbins=dict(start=0, end=cap + 1e-9, size=cap / 24),
            row=1,
            col=col,
            marker_color=COLORS["sales"],
            name=esc(segment),
            showlegend=False,
            hovertemplate="%{x} h: %{y} leads<extra></extra>",
        )
        fig.add_vline(x=target, line=dict(color=STATUS_COLORS["behind"], dash="dash", width=2), row=1, col=col)
        fig.update_xaxes(title_text=f"business hours (≥{cap:g} h in last bar)", range=[0, cap * 1.02], row=1, col=col)
    fig.update_yaxes(title_text="leads", row=1, col=1)
    fig.update_layout(template=TEMPLATE, height=height, bargap=0.05)
    return fig


def delay_split(routing: float | None, rep: float | None, height: int = 130) -> go.Figure:
    """One stacked bar: average routing delay then average rep delay (business hours)."""
    fig = _figure(height)
    total = (routing or 0) + (rep or 0)
    for name, value, color in (
        ("Routing (MQL → assigned)", routing, COLORS["muted"]),
        ("Rep (assigned → first touch)", rep, COLORS["sales"]),
    ):
        wide = total and (value or 0) >= 0.15 * total
        fig.add_bar(
            y=["wait"],
            x=[value or 0],
            orientation="h",
            name=f"{name}: {value or 0:.1f} h",
            marker_color=color,
            text=[f"{value or 0:.1f} h" if wide else ""],
            textposition="inside",
            insidetextanchor="middle",
            hovertemplate=f"{name}: %{{x:.1f}} business hours<extra></extra>",
        )
    fig.update_layout(barmode="stack", margin=dict(l=8, r=8, t=30, b=8))
    fig.update_yaxes(visible=False)
    fig.update_xaxes(rangemode="tozero", ticksuffix=" h")
    return fig


def rep_delays(rows: pd.DataFrame, height: int | None = None) -> go.Figure:
    """Per rep: median routing delay and median rep delay, stacked (columns Rep, Routing, Rep delay)."""
    height = height or max(240, 28 * len(rows) + 80)
    fig = _figure(height)
    names = [esc(n) for n in rows["Rep"]]
    fig.add_bar(
        y=names,
        x=rows["Routing"],
        orientation="h",
        name="Routing (median)",
        marker_color=COLORS["muted"],
        hovertemplate="%{y}: routing %{x:.1f} h<extra></extra>",
    )
    fig.add_bar(
        y=names,
        x=rows["Rep delay"],
        orientation="h",
        name="Rep (median)",
        marker_color=COLORS["sales"],
        hovertemplate="%{y}: rep %{x:.1f} h<extra></extra>",
    )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="business hours", rangemode="tozero")
    return fig


def _months(cards: Mapping[str, Mapping]) -> list[pd.Timestamp]:
    """Month keys as the first day of each month, for a date axis."""
    return [pd.Timestamp(f"{m}-01") for m in cards]


def _month_axis(fig: go.Figure) -> go.Figure:
    """A date x axis labelled by month, with a readable number of ticks."""
    fig.update_xaxes(type="date", tickformat="%b\n%Y", hoverformat="%b %Y")
    return fig


def mqls_trend(cards: Mapping[str, Mapping], height: int = 320) -> go.Figure:
    """MQLs per month coloured by status (named in the hover and legend) against the quota."""
    fig = _figure(height)
    months = _months(cards)
    mkt = [c["marketing"] for c in cards.values()]
    for status in STATUS_TEXT:
        picked = [(m, k) for m, k in zip(months, mkt) if k.get("status") == status]
        if picked:
            fig.add_bar(
                x=[m for m, _ in picked],
                y=[k["mqls"] for _, k in picked],
                name=status_word(status),
                width=[MONTH_BAR_MS] * len(picked),
                marker_color=STATUS_COLORS[status],
                hovertemplate="%{x|%b %Y}: %{y:,} MQLs<extra></extra>",
            )
    unjudged = [(m, k) for m, k in zip(months, mkt) if k.get("status") not in STATUS_TEXT]
    if unjudged:  # a filtered view (a team, a rep, a source) has MQLs but no quota to judge them by
        fig.add_bar(
            x=[m for m, _ in unjudged],
            y=[k["mqls"] for _, k in unjudged],
            name="MQLs",
            width=[MONTH_BAR_MS] * len(unjudged),
            marker_color=COLORS["marketing"],
            hovertemplate="%{x|%b %Y}: %{y:,} MQLs<extra></extra>",
        )
    fig.add_scatter(
        x=months,
        y=[k.get("quota") for k in mkt],
        mode="lines+markers",
        name="Quota",
        visible=True if any(k.get("quota") is not None for k in mkt) else "legendonly",
        line=dict(color=COLORS["target"], dash="dot", shape="hvh"),
        hovertemplate="%{x}: quota %{y:,}<extra></extra>",
    )
    live = [(m, k) for m, k in zip(months, mkt) if k.get("status") not in ("met", "missed") and k.get("projected")]
    if live:
        fig.add_scatter(
            x=[m for m, _ in live],
            y=[k["projected"] for _, k in live],
            mode="markers",
            name="Projected",
            marker=dict(symbol="diamond-open", size=12, color=COLORS["projection"], line=dict(width=2)),
            hovertemplate="%{x}: projected %{y:,.0f}<extra></extra>",
        )
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(title_text="MQLs", rangemode="tozero")
    return _month_axis(fig)


def compliance_trend(cards: Mapping[str, Mapping], key: str, height: int = 280) -> go.Figure:
    """A sales commitment's compliance per month against its target (key: first_touch / attempts)."""
    fig = _figure(height)
    months = _months(cards)
    parts = [c["sales"][key] for c in cards.values()]
    fig.add_scatter(
        x=months,
        y=[_pct(p.get("compliance")) for p in parts],
        mode="lines+markers",
        name="Compliance",
        line=dict(color=COLORS["sales"], width=3),
        marker=dict(
            size=9,
            color=[STATUS_COLORS.get(p.get("status") or "no_data") for p in parts],
            line=dict(width=1, color="white"),
        ),
        customdata=[status_word(p.get("status")) for p in parts],
        hovertemplate="%{x}: %{y:.1f}% (%{customdata})<extra></extra>",
    )
    fig.add_scatter(
        x=months,
        y=[_pct(p.get("target")) for p in parts],
        mode="lines",
        name="Target",
        line=dict(color=COLORS["target"], dash="dot", shape="hvh"),
        hovertemplate="target %{y:.0f}%<extra></extra>",
    )
    low = min(
        [v for v in (_pct(p.get("compliance")) for p in parts) if v is not None] + [_pct(parts[-1].get("target")) or 80]
    )
    fig.update_yaxes(title_text="% of judged leads", range=[max(0, low - 8), 101], ticksuffix="%")
    return _month_axis(fig)


def response_trend(cards: Mapping[str, Mapping], height: int = 280) -> go.Figure:
    """Median and p90 first-response business hours per month."""
    fig = _figure(height)
    months = _months(cards)
    ft = [c["sales"]["first_touch"] for c in cards.values()]
    fig.add_scatter(
        x=months,
        y=[f.get("p90_hours") for f in ft],
        mode="lines+markers",
        name="p90",
        line=dict(color=COLORS["sales_light"], width=3),
        hovertemplate="%{x}: p90 %{y:.1f} h<extra></extra>",
    )
    fig.add_scatter(
        x=months,
        y=[f.get("median_hours") for f in ft],
        mode="lines+markers",
        name="Median",
        line=dict(color=COLORS["sales"], width=3),
        hovertemplate="%{x}: median %{y:.1f} h<extra></extra>",
    )
    fig.update_yaxes(title_text="business hours", rangemode="tozero")
    return _month_axis(fig)


def revenue_trend(cards: Mapping[str, Mapping], height: int = 280) -> go.Figure:
    """Won revenue per close month (marketing-sourced part darker) against the revenue goal."""
    fig = _figure(height)
    months = _months(cards)
    fun = [c["funnel"] for c in cards.values()]
    fig.add_bar(
        x=months,
        y=[f.get("mql_won_revenue") for f in fun],  # unknown revenue is a gap, not a $0 bar
        name="From MQLs",
        width=[MONTH_BAR_MS] * len(months),
        marker_color=COLORS["revenue"],
        hovertemplate="%{x}: $%{y:,.0f} from MQLs<extra></extra>",
    )
    fig.add_bar(
        x=months,
        y=[None if f.get("won_revenue") is None else f["won_revenue"] - (f.get("mql_won_revenue") or 0) for f in fun],
        width=[MONTH_BAR_MS] * len(months),
        name="Other won",
        marker_color="#99f6e4",
        hovertemplate="%{x}: $%{y:,.0f} other<extra></extra>",
    )
    fig.add_scatter(
        x=months,
        y=[f.get("revenue_goal") for f in fun],
        mode="lines",
        name="Revenue goal",
        line=dict(color=COLORS["target"], dash="dot", shape="hvh"),
        hovertemplate="goal $%{y:,.0f}<extra></extra>",
    )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="won revenue", tickprefix="$", rangemode="tozero")
    return _month_axis(fig)


def source_mix_trend(cards: Mapping[str, Mapping], height: int = 320) -> go.Figure:
    """MQLs per source per month, stacked."""
    fig = _figure(height)
    months = _months(cards)
    sources: dict[str, list[int]] = {}
    for i, card in enumerate(cards.values()):
        for row in card["marketing"].get("by_source", []):
            sources.setdefault(row["source"], [0] * len(months))[i] = row["mqls"]
    for source, values in sorted(sources.items(), key=lambda kv: -sum(kv[1])):
        fig.add_bar(
            x=months,
            y=values,
            name=esc(source),
            width=[MONTH_BAR_MS] * len(months),
            hovertemplate=f"{esc(source)} %{{x}}: %{{y}}<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="MQLs", rangemode="tozero")
    return _month_axis(fig)


def lead_timeline(marks: Mapping[str, pd.Timestamp | None], touches: pd.DataFrame, height: int = 260) -> go.Figure:
    """A lead's clock on a time axis: its milestones as lines, each touch as a point (✓ counted, ✕ not).

    Times are local wall clock (naive); `touches` has occurred_at (local), kind, counts (bool) and why."""
    fig = _figure(height)
    palette = ["#2563eb", "#0d9488", "#dc2626", "#f59e0b", "#475569", "#7c3aed"]
    for i, (label, when) in enumerate(marks.items()):
        if when is None or pd.isna(when):
            continue
        fig.add_vline(x=when, line=dict(color=palette[i % len(palette)], dash="dot", width=2))
        fig.add_annotation(
            x=when,
            y=1.0,
            yref="paper",
            text=label,
            showarrow=False,
            textangle=-90,
            xanchor="right",
            yanchor="top",
            font=dict(size=11, color=palette[i % len(palette)]),
        )
    for counted, name, symbol, color in (
        (True, "Counts", "circle", "#16a34a"),
        (False, "Does not count", "x", "#94a3b8"),
    ):
        rows = touches.loc[touches["counts"] == counted]
        if len(rows):
            fig.add_scatter(
                x=rows["occurred_at"],
                y=[esc(k) for k in rows["kind"]],
                mode="markers",
                name=name,
                marker=dict(symbol=symbol, size=12, color=color, line=dict(width=1, color="white")),
                customdata=[esc(w) for w in rows["why"]],
                hovertemplate="%{x|%b %d %H:%M} %{y}: %{customdata}<extra></extra>",
            )
    fig.update_layout(showlegend=True)
    fig.update_yaxes(
        title_text="touch kind",
        categoryorder="array",
        categoryarray=["call", "email", "meeting", "note", "task", "other"],
    )
    fig.update_xaxes(tickformat="%b %d\n%H:%M")
    return fig


def _pct(value: float | None) -> float | None:
    """A share as percent (None stays None)."""
    return None if value is None else value * 100


def score_trend(trend: Sequence[Mapping], height: int = 280) -> go.Figure:
    """Marketing's, Sales' and the overall weighted consequences score per month (0-100 %)."""
    fig = _figure(height)
    months = [pd.Timestamp(f"{row['month']}-01") for row in trend]
    for key, name, color, dash in (
        ("marketing", "Marketing", COLORS["marketing"], "solid"),
        ("sales", "Sales", COLORS["sales"], "solid"),
        ("overall", "Overall", COLORS["target"], "dot"),
    ):
        fig.add_scatter(
            x=months,
            y=[_pct(row.get(key)) for row in trend],
            mode="lines+markers",
            name=name,
            connectgaps=False,
            line=dict(color=color, width=3 if dash == "solid" else 2, dash=dash),
            hovertemplate=f"{name} %{{y:.1f}}%<extra>%{{x}}</extra>",
        )
    fig.update_yaxes(title_text="weighted score", range=[0, 104], ticksuffix="%")
    return _month_axis(fig)
