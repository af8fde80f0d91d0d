print("kfc-provision")
