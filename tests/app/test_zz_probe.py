from test_access import shown_numbers, INJECTIONS, estate_path  # noqa

def test_probe(estate_path, open_page, use_warehouse):
    for page in ("overview", "governance", "spend", "reliability", "anomalies", "data-health"):
        b = shown_numbers(open_page(estate_path, page))
        c = shown_numbers(open_page(estate_path, page))
        for i in range(3):
            for j, (x, y) in enumerate(zip(b[i], c[i])):
                if x != y:
                    x, y = str(x), str(y)
                    k = next(k for k in range(min(len(x), len(y))) if x[k] != y[k])
                    print(page, i, j, x[max(0,k-200):k+100], "\n   VS   ", y[max(0,k-200):k+100])
