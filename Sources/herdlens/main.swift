print("herdlens")
