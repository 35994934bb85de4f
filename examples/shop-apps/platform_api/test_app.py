import unittest

import app


class PriceTest(unittest.TestCase):
    def test_cube(self):
        self.assertEqual(app.price(8000), 5.5)

    def test_rush(self):
        self.assertEqual(app.price(8000, rush=True), 8.25)

    def test_unknown_material(self):
        with self.assertRaises(ValueError):
            app.price(1, "gold")


if __name__ == "__main__":
    unittest.main()
